"""``python -m ordoclic_client``: see :mod:`ordoclic_client.cli`."""

import sys

from ordoclic_client.cli import main

sys.exit(main())
