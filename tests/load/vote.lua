-- wrk script for tests/load/run: every request casts a vote that is new for its
-- (participant, statement) pair, so each acknowledged vote (303) must add exactly one
-- history row. Participants (cookie and CSRF token per line) are split between wrk's
-- threads; each thread walks its participants × statements in order.
local counter = 0
local threads = {}

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

local function lines(path)
    local out = {}
    for line in io.lines(path) do
        if line ~= "" then table.insert(out, line) end
    end
    return out
end

function init(args)
    local slug, people_file, statements_file, nthreads = args[1], args[2], args[3], tonumber(args[4])
    mine = {}
    local i = 0
    for _, line in ipairs(lines(people_file)) do
        if i % nthreads == tid then
            local cookie, csrf = line:match("^(.-)\t(.*)$")
            table.insert(mine, { cookie = cookie, csrf = csrf })
        end
        i = i + 1
    end
    statements = lines(statements_file)
    prefix = "/consultations/" .. slug .. "/statements/"
    n = 0
    acks = 0
    others = 0
end

function request()
    local person = mine[(n % #mine) + 1]
    local statement = statements[(math.floor(n / #mine) % #statements) + 1]
    n = n + 1
    local choices = { "agree", "disagree", "pass" }
    return wrk.format("POST", prefix .. statement .. "/vote", {
        ["Cookie"] = person.cookie,
        ["X-CSRF-Token"] = person.csrf,
        ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "vote=" .. choices[(n % 3) + 1])
end

function response(status, headers, body)
    if status == 303 then acks = acks + 1 else others = others + 1 end
end

function done(summary, latency, requests)
    local a, o = 0, 0
    for _, t in ipairs(threads) do
        a = a + t:get("acks")
        o = o + t:get("others")
    end
    io.write(string.format("ACKS %d OTHERS %d\n", a, o))
end
