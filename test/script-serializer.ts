/**
 * A jest snapshot serializer: a shipped script's body (a string starting with `#!/bin/sh`) stands in snapshots as its
 * first line, line count and SHA-256, since test/scripts.test.ts checks the ConfigMap's bytes against the files.
 */
import { createHash } from 'crypto';

module.exports = {
  test: (value: unknown) => typeof value === 'string' && value.startsWith('#!/bin/sh\n'),
  serialize: (value: string) => {
    const lines = value.split('\n');
    return `"<script ${lines[1].replace(/^#\s*/, '').split(':')[0]}, ${lines.length - 1} lines, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 16)}>"`;
  },
};
