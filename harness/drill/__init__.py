"""Rollback drills and the paper switchover: Ansible playbooks run through ansible-runner.

``rollback`` runs rollback.yml and writes ROLLBACK_DRILL.json (``prelive drill``); ``runner``
runs a playbook and collects its job events; ``events`` folds them into step timings;
``record`` shapes ROLLBACK_DRILL.json / SWITCHOVER.json; ``collections`` installs
community.docker without Galaxy; ``ib_state`` is the small API client the playbooks check with.
The switchover's entry point is :mod:`harness.switchover`.
"""
