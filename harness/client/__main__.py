"""``python -m harness.client``: the reference handler from the IB_* environment."""
import sys

from .app import main

sys.exit(main())
