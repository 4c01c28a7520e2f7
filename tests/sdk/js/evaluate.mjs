// Evaluates Verdict's SDK payload with GrowthBook's JavaScript SDK, as an app would.
//
// Reads a JSON job from stdin: {apiHost, clientKey, appKey, keys, units: [[unitId, attributes]]}.
// Loads the payload from Verdict (the SDK's own fetch of /api/features/<clientKey>), evaluates
// every key for every unit, forwards what the tracking callback reports to
// POST /api/v1/exposures with the app key, and prints {results, forwarded, responses} as JSON.
import { GrowthBook } from "@growthbook/growthbook";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const tracked = [];
const gb = new GrowthBook({
  apiHost: job.apiHost,
  clientKey: job.clientKey,
  backgroundSync: false,
  trackingCallback: (experiment, result) => {
    const attributes = gb.getAttributes();
    tracked.push({
      unit_id: attributes.user_id,
      experiment: experiment.key,
      variant: result.key,
      timestamp: new Date().toISOString(),
      attributes,
    });
  },
});
const loaded = await gb.init({ timeout: 10000 });
if (!loaded.success) {
  console.error("Could not load the payload:", JSON.stringify(loaded));
  process.exit(2);
}

const results = [];
for (const [unitId, attributes] of job.units) {
  await gb.setAttributes(attributes);
  const row = {};
  for (const key of job.keys) {
    const res = gb.evalFeature(key);
    const inExperiment =
      res.source === "force" ||
      (res.source === "experiment" && Boolean(res.experimentResult?.inExperiment));
    row[key] = [res.value, inExperiment];
  }
  results.push([unitId, row]);
}

const responses = [];
for (let i = 0; i < tracked.length; i += 1000) {
  const response = await fetch(`${job.apiHost}/api/v1/exposures`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${job.appKey}` },
    body: JSON.stringify({ exposures: tracked.slice(i, i + 1000) }),
  });
  responses.push([response.status, await response.json()]);
}
process.stdout.write(JSON.stringify({ results, forwarded: tracked.length, responses }));
