"""The worker wing: everything a remote worker runs on a job, and nothing else.

A job arrives as JSON, an executor here carries it out and returns a result;
no module here imports Django, a model or the control side's apps (a test
imports the whole wing in a fresh interpreter and checks), so a worker's host
needs neither the database nor its credentials. The Celery tasks that hand jobs
to these executors are the remote workers' app (worker_node/), which imports no
Django either; jobs and results have their shapes in `jobs`.

- `release/`: a release upload (rclone, the destination policy, the executor);
- `probe/`: a probe of a student's endpoint (protocols, the executor);
- `judge/`: a submission trained and scored in a sandbox (executor, sandbox,
  its runner, seccomp, cgroups, metrics, predictions, run artifacts);
- `pipeline/`: pipeline zips (spec, graph, plan, checks, archive rules);
- `jobs`: the shapes of jobs and results (TypedDicts) and `JobFailure`;
- `network_policy`, `content_store`, `bounded_json`, `worker_identity`: what
  they stand on.
"""
