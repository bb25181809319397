"""Rollback drills and the paper switchover: Ansible playbooks run through ansible-runner.

``runner`` runs a playbook and collects its job events, ``events`` turns them into step
timings, ``record`` writes ROLLBACK_DRILL.json, ``collections`` installs community.docker
without Galaxy, ``ib_state`` is the small API client the playbooks use for checks.
"""
