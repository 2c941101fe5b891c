-- wrk script of the push benchmark: POST the body push sends (KH_BODY), with
-- headers of the same size as push's (Standard Webhooks), on keep-alive
-- connections.
local f = assert(io.open(os.getenv("KH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["webhook-id"] = "000be4c4-0000-4000-8000-000000000000"
wrk.headers["webhook-timestamp"] = "1795450000"
wrk.headers["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
wrk.headers["User-Agent"] = "ketenhub-push"
