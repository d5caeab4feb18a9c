"""What an operator watches, read across the capability apps (queues, jobs by state,
stuck jobs and recent failures). Above dispatch, judging and probing, below the site
and notifications: the operations page, /metrics and the teachers' digest all read
it. No models, so not a Django app."""
