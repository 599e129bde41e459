"""The shared ledger's Lua scripts: each runs atomically in Redis, so a check and the
reservation it allows are one step for every engine on the store.

Amounts travel as whole numbers of millionths (strings), so Lua never rounds money: a
double holds every integer up to 2^53 exactly (9 billion at this scale). A limit of -1
means none (a reservation rebuilt at start, whose limits were checked when it was made).

Keys, all under one hash tag so a cluster keeps them on one slot:

- ``totals``     key -> standing exposure plus non-window reservations
- ``earmarked``  key -> headroom earmarked for holders not admitted yet
- ``holds``      holder -> JSON [[key, kind, units, window_ms], ...] plus its engine
- ``earmarks``   holder -> JSON, the same shape
- ``windows``    key -> JSON [[expiry_ms, units, holder], ...] (rate-window slots)
- ``standing:<engine>``  key -> the standing exposure that engine's journal accounts for
- ``holders:<engine>``   the holders (orders) that engine reserved for
"""

# ruff: noqa: E501  (Lua source: its lines are kept whole so each statement reads as one)
from __future__ import annotations

COMMON = r"""
local totals, earmarked, holds, earmarks, windows = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function num(v) if not v then return 0 end return tonumber(v) end
local function fmt(n) return string.format('%.0f', n) end

local function window_sum(key)
  local raw = redis.call('HGET', windows, key)
  if not raw then return 0 end
  local slots, live, sum = cjson.decode(raw), {}, 0
  for _, s in ipairs(slots) do
    if tonumber(s[1]) > now then table.insert(live, s); sum = sum + tonumber(s[2]) end
  end
  if #live == 0 then redis.call('HDEL', windows, key)
  elseif #live < #slots then redis.call('HSET', windows, key, cjson.encode(live)) end
  return sum
end

local function exposure(key) return num(redis.call('HGET', totals, key)) + window_sum(key) end

local function add_total(key, units)
  local after = num(redis.call('HGET', totals, key)) + units
  if after == 0 then redis.call('HDEL', totals, key) else redis.call('HSET', totals, key, fmt(after)) end
end

local function held_of(hash, holder)
  local raw = redis.call('HGET', hash, holder)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function release_earmark(holder)
  local held = held_of(earmarks, holder)
  if not held then return end
  for _, h in ipairs(held.claims) do
    local after = num(redis.call('HGET', earmarked, h[1])) - tonumber(h[3])
    if after == 0 then redis.call('HDEL', earmarked, h[1]) else redis.call('HSET', earmarked, h[1], fmt(after)) end
  end
  redis.call('HDEL', earmarks, holder)
end

-- drop a holder's reservation; its window slots too unless keep_windows (it was sent)
local function release(holder, keep_windows)
  release_earmark(holder)
  local held = held_of(holds, holder)
  if not held then return nil end
  for _, h in ipairs(held.claims) do
    if h[2] ~= 'window' then
      add_total(h[1], -tonumber(h[3]))
    elseif not keep_windows then
      local raw = redis.call('HGET', windows, h[1])
      if raw then
        local kept = {}
        for _, s in ipairs(cjson.decode(raw)) do if s[3] ~= holder then table.insert(kept, s) end end
        if #kept == 0 then redis.call('HDEL', windows, h[1]) else redis.call('HSET', windows, h[1], cjson.encode(kept)) end
      end
    end
  end
  redis.call('HDEL', holds, holder)
  redis.call('SREM', KEYS[7], holder)
  return held
end
"""

#: KEYS: the five hashes, standing:<engine>, holders:<engine>. ARGV: mode ('reserve' or
#: 'earmark'), engine, then per holder: holder, count, and count x (key, kind, units,
#: limit, window_ms). Returns {breached group, breached claim} (0, 0 when granted),
#: then key, exposure pairs for the keys claimed.
ADMIT = COMMON + r"""
local mode, engine = ARGV[1], ARGV[2]
local groups, i = {}, 3
while i <= #ARGV do
  local holder, n = ARGV[i], tonumber(ARGV[i + 1])
  local claims = {}
  i = i + 2
  for _ = 1, n do
    table.insert(claims, {ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])})
    i = i + 5
  end
  table.insert(groups, {holder, claims})
end
local pending, seen = {}, {}
for g, group in ipairs(groups) do
  local own = {}
  for _, hash in ipairs({holds, earmarks}) do
    local held = held_of(hash, group[1])
    if held then for _, h in ipairs(held.claims) do own[h[1]] = (own[h[1]] or 0) + tonumber(h[3]) end end
  end
  for c, claim in ipairs(group[2]) do
    local key, units, limit = claim[1], tonumber(claim[3]), claim[4]
    local after = exposure(key) + num(redis.call('HGET', earmarked, key)) - (own[key] or 0)
      + (pending[key] or 0) + units
    if units > 0 and limit >= 0 and after > limit then return {g, c} end
    pending[key] = (pending[key] or 0) + units - (own[key] or 0)
    own[key] = nil
    seen[key] = true
  end
end
for _, group in ipairs(groups) do
  local holder, stored = group[1], {}
  for _, claim in ipairs(group[2]) do table.insert(stored, {claim[1], claim[2], claim[3], claim[5]}) end
  if mode == 'reserve' then
    release(holder, false)
    for _, claim in ipairs(group[2]) do
      if claim[2] == 'window' then
        local raw = redis.call('HGET', windows, claim[1])
        local slots = raw and cjson.decode(raw) or {}
        table.insert(slots, {fmt(now + claim[5]), claim[3], holder})
        redis.call('HSET', windows, claim[1], cjson.encode(slots))
      else
        add_total(claim[1], tonumber(claim[3]))
      end
    end
    redis.call('HSET', holds, holder, cjson.encode({engine = engine, claims = stored}))
    redis.call('SADD', KEYS[7], holder)
  else
    release_earmark(holder)
    for _, claim in ipairs(group[2]) do
      local after = num(redis.call('HGET', earmarked, claim[1])) + tonumber(claim[3])
      redis.call('HSET', earmarked, claim[1], fmt(after))
    end
    redis.call('HSET', earmarks, holder, cjson.encode({engine = engine, claims = stored}))
    redis.call('SADD', KEYS[7], holder)
  end
end
local out = {0, 0}
for key, _ in pairs(seen) do table.insert(out, key); table.insert(out, fmt(exposure(key))) end
return out
"""

#: ARGV: what ('release' or 'earmark'), holder.
RELEASE = COMMON + r"""
if ARGV[1] == 'earmark' then release_earmark(ARGV[2]) else release(ARGV[2], false) end
redis.call('SREM', KEYS[7], ARGV[2])
return 1
"""


#: A change of standing exposure is not idempotent, so each carries an operation id (ARGV[1])
#: and runs once however often a lost reply makes the client send it again.
ONCE = r"""
if not redis.call('SET', totals .. ':op:' .. ARGV[1], '1', 'NX', 'EX', 86400) then return {} end
"""

#: Standing exposure changes: never below zero, and the change is booked to the engine
#: whose journal holds the fills (so a reset of that engine takes back exactly its share).
STANDING = r"""
local function change_standing(key, units)
  local before = num(redis.call('HGET', totals, key))
  local after = before + units
  if after < 0 then after = 0 end
  if after == 0 then redis.call('HDEL', totals, key) else redis.call('HSET', totals, key, fmt(after)) end
  redis.call('HINCRBY', KEYS[6], key, fmt(after - before))
end
"""

#: ARGV: operation id, holder, amount units, then the keys the amount stands under.
SETTLE = COMMON + STANDING + ONCE + r"""
local holder, amount = ARGV[2], tonumber(ARGV[3])
local scopes, order = {}, {}
for i = 4, #ARGV do if not scopes[ARGV[i]] then scopes[ARGV[i]] = true; table.insert(order, ARGV[i]) end end
local held = release(holder, true)
if held then
  for _, h in ipairs(held.claims) do
    if h[2] == 'exposure' and not scopes[h[1]] then scopes[h[1]] = true; table.insert(order, h[1]) end
  end
end
redis.call('SREM', KEYS[7], holder)
if amount ~= 0 then for _, key in ipairs(order) do change_standing(key, amount) end end
local out = {}
for _, key in ipairs(order) do table.insert(out, key); table.insert(out, fmt(exposure(key))) end
return out
"""

#: ARGV: operation id, amount units, then keys.
ADJUST = COMMON + STANDING + ONCE + r"""
local amount = tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV do
  change_standing(ARGV[i], amount)
  table.insert(out, ARGV[i]); table.insert(out, fmt(exposure(ARGV[i])))
end
return out
"""

#: An engine starts (or its journal is being reconciled): everything it held is taken back
#: (reservations, earmarks, standing exposure), so that replaying its journal books each
#: figure once. Window slots of orders it sent stay counted until their window ends.
RESET = COMMON + r"""
local holders = redis.call('SMEMBERS', KEYS[7])
for _, holder in ipairs(holders) do release(holder, true) end
redis.call('DEL', KEYS[7])
local standing = redis.call('HGETALL', KEYS[6])
for i = 1, #standing, 2 do
  local after = num(redis.call('HGET', totals, standing[i])) - tonumber(standing[i + 1])
  if after <= 0 then redis.call('HDEL', totals, standing[i]) else redis.call('HSET', totals, standing[i], fmt(after)) end
end
redis.call('DEL', KEYS[6])
return #holders
"""

#: ARGV: keys. Returns their exposures (standing, reservations and live window slots).
READ = COMMON + r"""
local out = {}
for i = 1, #ARGV do table.insert(out, fmt(exposure(ARGV[i]))) end
return out
"""
