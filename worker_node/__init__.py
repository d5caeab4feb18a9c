"""The remote worker: a Celery app that runs the worker wing's executors on the
`dispatch`, `judge` (and a challenge's own `judge-<name>`) and `probe` queues, and
imports no Django and no control-side app (a test starts one and checks).

- `celery`: the app, configured from the environment (`settings`), started by
  `ppipe-worker` for the remote queues (`celery -A worker_node worker …`);
- `tasks`: the `execute_*` tasks, under the names the control side sends them
  by, each reporting to the control side's record tasks by name;
- `names`: those names, and the options a message to each carries, shared with
  the control side, which sends jobs by name and never imports the tasks;
- `logs`: job ids in every log record (the control side logs the same way).

Importing this package starts nothing: the app is built by `worker_node.celery`.
"""
