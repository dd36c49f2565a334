from mock_server.launcher import main

main()
