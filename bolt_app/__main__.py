import sys

from bolt_app.cli import main

sys.exit(main())
