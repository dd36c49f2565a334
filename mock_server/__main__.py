from mock_server.faces.launcher import main

main()
