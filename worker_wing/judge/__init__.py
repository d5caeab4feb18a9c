"""The judge: a submission trained and scored on cross-validation folds in a sandbox."""
