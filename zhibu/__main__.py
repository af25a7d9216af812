from zhibu.launch import main

main()
