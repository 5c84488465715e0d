import sys

from jaxlstm.cli import main

sys.exit(main())
