"""Take the next RQ job in one round trip: the Lua script behind `app.worker.rq_worker.RunWorker`.

Why a script: RQ 3 spends six round trips from "ready for a job" to running it (the suspension
check with a heartbeat, one LPOP per queue, HGETALL of the job, the execution registry and the
job's start as two transactions). The script does what of that our runs need, atomically, in
one: the worker's heartbeat, the suspension check, LPOP from the queues in order (skipping ids
whose job hash is gone, as RQ does), and marking the job started the way RQ marks it (`status`,
`started_at`, `last_heartbeat`, `worker_name`; what the sweeper reads). It also takes a job id a
blocking BLPOP already popped ("claim" mode), for a worker woken from idle.

What it leaves out, deliberately: RQ's execution registry (`rq:wip:*`, `rq:execution:*`).
RQ uses it to move jobs of killed workers to the failed registry; here the run's lease and the
sweeper do that job (`app.worker.lease`, `app.clock.sweeper`), and the job hash gets a TTL of
the job's time limit plus a minute instead of living forever, so a killed worker's job expires
on its own.
"""

from __future__ import annotations

from redis.exceptions import NoScriptError

# KEYS: worker key, worker executions key, suspension key, queue keys (in priority order)
# ARGV: now (RQ's time format), worker name, worker TTL, job key prefix, popped job id ("" to pop)
TAKE = """
local worker_key, now, name, ttl, prefix = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local popped = ARGV[5]
redis.call('HSET', worker_key, 'last_heartbeat', now)
redis.call('EXPIRE', worker_key, ttl)
redis.call('EXPIRE', KEYS[2], ttl)
if popped == '' and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HSET', worker_key, 'state', 'idle')
  return {'suspended'}
end
local function claim(queue_key, job_id)
  local job_key = prefix .. job_id
  local fields = redis.call('HGETALL', job_key)
  if #fields == 0 then return nil end
  local job_ttl = tonumber(redis.call('HGET', job_key, 'timeout') or '')
  job_ttl = (job_ttl and job_ttl > 0) and job_ttl + 60 or ttl
  redis.call('HSET', job_key, 'status', 'started', 'started_at', now, 'last_heartbeat', now, 'worker_name', name)
  redis.call('EXPIRE', job_key, job_ttl)
  redis.call('HSET', worker_key, 'state', 'busy')
  if job_ttl > ttl then
    redis.call('EXPIRE', worker_key, job_ttl)
    redis.call('EXPIRE', KEYS[2], job_ttl)
  end
  return {queue_key, job_id, fields}
end
if popped ~= '' then
  return claim(KEYS[4], popped) or {'missing'}
end
for i = 4, #KEYS do
  while true do
    local job_id = redis.call('LPOP', KEYS[i])
    if not job_id then break end
    local taken = claim(KEYS[i], job_id)
    if taken then return taken end
  end
end
redis.call('HSET', worker_key, 'state', 'idle')
return {}
"""


class Taker:
    """Run the script by its digest, loading it once per server (and again after a restart)."""

    def __init__(self, connection):
        self.connection = connection
        self.sha = connection.script_load(TAKE)

    def add(self, pipe, keys: list[str], args: list) -> None:
        """Queue the script on `pipe`, after whatever the pipe already carries."""
        pipe.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)

    def answer(self, result, keys: list[str], args: list):
        """The script's answer from a pipeline's last result; reloads it if the server forgot it."""
        if isinstance(result, NoScriptError):
            self.sha = self.connection.script_load(TAKE)
            return self.connection.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        if isinstance(result, Exception):
            raise result
        return result
