-- wrk-check.lua: wrk script for bench/run-daemon.sh. POSTs messages read
-- from a file list (one path a line), round-robin, to the URL's path:
--   wrk -t2 -c16 -d20s -s bench/wrk-check.lua http://127.0.0.1:PORT/check -- LIST
-- Every thread loads the whole list (3,000 messages of ~5 KB: ~15 MB each).
-- done() prints one line in spamc_load's form; a failure is a socket
-- error (connect, read, write, timeout) or a status other than 2xx/3xx.

local reqs = {}
local n = 0
local i = 0

function init(args)
	local list = assert(io.open(args[1], "r"))
	for path in list:lines() do
		if path ~= "" then
			local f = assert(io.open(path, "rb"))
			local body = f:read("*a")
			f:close()
			n = n + 1
			reqs[n] = wrk.format("POST", nil,
				{ ["Content-Type"] = "message/rfc822" }, body)
		end
	end
	list:close()
	-- threads start at different places in the list
	i = (tonumber(tostring(wrk.thread):match("0x(%x+)") or "0", 16) or 0) % n
end

function request()
	i = i % n + 1
	return reqs[i]
end

function done(summary, latency, requests)
	local e = summary.errors
	local fail = e.connect + e.read + e.write + e.timeout + e.status
	local secs = summary.duration / 1e6
	io.write(string.format("seconds=%.2f requests=%d ok=%d failures=%d " ..
		"(connect=%d read=%d write=%d timeout=%d status=%d) msgs_per_s=%.1f " ..
		"p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
		secs, summary.requests, summary.requests - e.status, fail,
		e.connect, e.read, e.write, e.timeout, e.status,
		(summary.requests - e.status) / secs,
		latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
		latency.max / 1e3))
end
