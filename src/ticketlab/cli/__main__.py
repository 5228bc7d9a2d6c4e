from ticketlab.cli.main import main

raise SystemExit(main())
