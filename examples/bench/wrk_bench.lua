-- wrk script of bench.sh: the same request loop for the HTTP floor and for
-- create-checkout, so both pay the same client-side Lua cost.
--
-- Environment:
--   BENCH_MODE     "hello" (GET /) or "checkout" (POST /v1/checkout/sessions
--                  with a unique Idempotency-Key per request)
--   BENCH_API_KEY  the merchant's secret key (checkout)
--   BENCH_RUN_ID   makes idempotency keys unique across runs (checkout)
--   BENCH_OUT      where done() writes its JSON summary
local mode = os.getenv("BENCH_MODE") or "hello"
local out_path = os.getenv("BENCH_OUT") or "/dev/stdout"

-- Must match bench::checkout_body() in psp_calls.cpp.
local checkout_body = "mode=payment&success_url=http%3A%2F%2F127.0.0.1%2Fok"
  .. "&line_items[0][price_data][currency]=usd"
  .. "&line_items[0][price_data][unit_amount]=2000"
  .. "&line_items[0][price_data][product_data][name]=Bench"
  .. "&line_items[0][quantity]=1"

local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_no", thread_count)
end

local counter = 0
local key_prefix = ""
local headers = {}
function init(args)
  key_prefix = (os.getenv("BENCH_RUN_ID") or "run") .. "-t"
    .. tostring(thread_no) .. "-"
  headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_API_KEY") or "")
  headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  if mode ~= "checkout" then
    return wrk.format("GET", "/")
  end
  counter = counter + 1
  headers["Idempotency-Key"] = key_prefix .. counter
  return wrk.format("POST", "/v1/checkout/sessions", headers, checkout_body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local f = assert(io.open(out_path, "w"))
  f:write(string.format(
    '{"mode":"%s","requests":%d,"duration_us":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,'
      .. '"timeout":%d},"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,'
      .. '"p99":%d,"max":%d}}\n',
    mode, summary.requests, summary.duration, e.connect, e.read, e.write,
    e.status, e.timeout, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
  f:close()
end
