# Sourced by the end-to-end scripts: starts a tributary server for them.
#
# start_tributary BIN LOG [FLAGS...] runs `BIN serve` on a loopback port
# the server picks itself (so no port can be taken in between), keeping
# data in memory and changing stream states at once, with its log in LOG.
# Its Connect REST API also takes a free loopback port, so a server on the
# default 127.0.0.1:8083 does not get in the way.
# It reads the address from the server's start-up line, waits until the
# server answers, and sets ENDPOINT and SERVER_PID. It returns non-zero if
# the server does not come up within 15 seconds.
start_tributary() {
	local bin=$1 log=$2 addr
	shift 2
	"$bin" serve -listen 127.0.0.1:0 -connect-listen 127.0.0.1:0 -in-memory -create-stream-delay 0 \
		-delete-stream-delay 0 -log-level info "$@" >"$log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 300); do
		addr=$(sed -n 's/.*msg="tributary serving" addr=\([0-9.:]*\).*/\1/p' "$log" | head -n 1)
		if [ -n "$addr" ] && curl -sf -o /dev/null "http://$addr/health"; then
			ENDPOINT="http://$addr"
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
