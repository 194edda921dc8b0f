from cftui.cli import main

# Guarded: sync child processes are spawned, and spawn re-imports the parent's
# main module; unguarded, each child would run the CLI again.
if __name__ == "__main__":
    raise SystemExit(main())
