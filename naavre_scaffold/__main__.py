from naavre_scaffold.cli import main

raise SystemExit(main())
