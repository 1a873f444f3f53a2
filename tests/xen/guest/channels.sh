# Guest half of scenarios/channels.sh: an upper-casing agent on each channel.
upcase_agent org.example.test.0 "READY org.example.test.0"
upcase_agent org.example.pty.0
sleep 1
ready
