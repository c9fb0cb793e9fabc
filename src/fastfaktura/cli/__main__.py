"""`python -m fastfaktura.cli`, as the benchmarks run it when no script is installed."""

import sys

from fastfaktura.cli import main

sys.exit(main())
