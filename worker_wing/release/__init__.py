"""Release uploads: one slice of training data to a teacher's destination, through rclone."""
