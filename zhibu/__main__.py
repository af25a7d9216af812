from zhibu.cli import main

main()
