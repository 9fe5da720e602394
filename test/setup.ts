// Shared jest set-up of every test file. Synth-time warnings are asserted through construct metadata
// (EmbeddedPostgresPitr.warnings); printing them would bury the test output.
process.env.CDK8S_POSTGRES_PITR_QUIET = '1';
