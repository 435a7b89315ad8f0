-- Argo CD health check for the personalize-operator.dev kinds (DatasetGroup, Solution, Campaign,
-- EventTracker, Filter, Recommender, MetricAttribution, and the jobs BatchInferenceJob,
-- BatchSegmentJob, DatasetExportJob, DataDeletionJob: Progressing while a run is in flight,
-- Degraded when the newest run failed). It reads only what the operator writes
-- (src/outcome.rs):
--   Ready=True                                  -> Healthy
--   Terminal=True, or Ready=False with a reason
--   that is a failure (...Failed, InvalidInput,
--   NameTaken, ExpressionMismatch; a Campaign
--   whose rollout was aborted: RolloutAborted) -> Degraded  (only a spec change can fix it)
--   Ready=False ObserveOnly (an observe-only
--   object differs from Personalize)            -> Degraded  (the operator will not change it)
--   the personalize-operator.dev/paused
--   annotation is "true"                        -> Suspended (no AWS call until it is removed)
--   anything else (Creating, Training, Importing,
--   Deploying, Updating, RollingOut (a Campaign
--   rollout), waiting for a reference,
--   retrying after Throttled/AwsError, no status
--   yet, a spec change not yet observed)        -> Progressing
-- One script for every kind: argocd-cm maps each resource.customizations.health key to it.
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }

local function condition(conditions, type_)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type_ then
      return c
    end
  end
  return nil
end

local function describe(c)
  local text = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    if text ~= "" then
      text = text .. ": "
    end
    text = text .. c.message
  end
  return text
end

local function is_failure(reason)
  if reason == nil then
    return false
  end
  return string.match(reason, "Failed$") ~= nil or reason == "InvalidInput" or reason == "NameTaken"
    or reason == "ExpressionMismatch" or reason == "ObserveOnly"
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Deleting (the operator removes the Personalize resource first)"
  return hs
end

local annotations = obj.metadata and obj.metadata.annotations
if annotations ~= nil and annotations["personalize-operator.dev/paused"] == "true" then
  hs.status = "Suspended"
  hs.message = "Paused by the personalize-operator.dev/paused annotation"
  return hs
end

local status = obj.status
if status == nil or status.conditions == nil then
  return hs
end

-- Conditions describe the generation they were computed for; a newer spec is still being applied.
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready = condition(status.conditions, "Ready")
local terminal = condition(status.conditions, "Terminal")

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

if terminal ~= nil and terminal.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(terminal)
  return hs
end

if ready ~= nil and ready.status == "False" and is_failure(ready.reason) then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

if ready ~= nil then
  local text = describe(ready)
  if text ~= "" then
    hs.message = text
  end
end
return hs
