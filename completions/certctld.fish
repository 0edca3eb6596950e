# fish completion for certctld. Written by hand; tests/cmd/docs_test.cc checks
# it offers every option of `certctld --help`.
complete -c certctld -f
complete -c certctld -l config -r -F -d 'YAML configuration file'
complete -c certctld -l dev -d 'Development mode with a private PostgreSQL cluster'
complete -c certctld -l data-dir -r -a '(__fish_complete_directories)' -d 'Dev-mode data directory'
complete -c certctld -l log-format -x -a 'text json' -d 'Log format'
complete -c certctld -l log-level -x -a 'trace debug info warn error' -d 'Log level'
complete -c certctld -l version -d 'Print the version'
complete -c certctld -s h -l help -d 'Print help'
