from cftui.cli import main

raise SystemExit(main())
