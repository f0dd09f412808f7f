// Offline checks of rendered Kubernetes manifests (`kubectl kustomize k8s/overlays/...`), run by
// tests/MailCluster.Deploy.Tests. Installed with `npm ci` in this folder (test.sh does); versions pinned in
// package-lock.json, so the schemas are those of kubernetes-models 5.1.0 and @kubernetes-models/prometheus-operator 6.0.0.
//
//   node validate.mjs schema FILE       every object against its pinned schema: types, enums and required fields
//                                       (the models' own validators), and no unknown field anywhere (read from the
//                                       models' type declarations, as kubectl's strict field validation would)
//   node validate.mjs restricted FILE   every pod template against Pod Security "restricted", plus MailCluster's own
//                                       hardening (read-only root filesystem, requests and limits)
//   node validate.mjs json FILE         the objects as a JSON array (for assertions in C#)
//   node validate.mjs rules FILE        the spec of the PrometheusRule in FILE, as JSON (a rules file for promtool)
//
// Each problem is printed as one line "Kind/name: path: message"; the exit status is 1 when there is any.
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseAllDocuments } from "yaml";
import { checkRestricted } from "./restricted.mjs";
import { TypeIndex } from "./types.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, "node_modules");

/** The objects of a multi-document YAML file (empty documents skipped); a YAML error is fatal. */
function load(file) {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
    }
    const value = doc.toJS();
    if (value !== null && value !== undefined) {
      objects.push(value);
    }
  }
  return objects;
}

const name = (o) => `${o?.kind ?? "?"}/${o?.metadata?.name ?? "?"}`;

/** The model file (without extension) of an apiVersion and kind, or null for kinds without a pinned model. */
function modelFile(apiVersion, kind) {
  if (apiVersion === "v1") return path.join(modules, "kubernetes-models", "v1", kind);
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return path.join(modules, "@kubernetes-models", "prometheus-operator", apiVersion, kind);
  }
  return path.join(modules, "kubernetes-models", apiVersion, kind);
}

/** Custom resources without an npm model: a checked-in subset of their CRD (schemas/*.json, see types.mjs). */
const localSchemas = {
  "postgresql.cnpg.io/v1/Cluster": "cnpg-cluster.json",
};

async function checkSchema(objects, problems) {
  const types = new TypeIndex(modules, path.join(here, "schemas"));
  for (const o of objects) {
    if (typeof o?.apiVersion !== "string" || typeof o?.kind !== "string") {
      problems.push(`${name(o)}: apiVersion and kind are required`);
      continue;
    }
    const key = `${o.apiVersion}/${o.kind}`;
    if (localSchemas[key]) {
      types.checkLocal(o, localSchemas[key], (where, message) => problems.push(`${name(o)}: ${where}: ${message}`));
      continue;
    }
    const file = modelFile(o.apiVersion, o.kind);
    if (!existsSync(`${file}.js`)) {
      problems.push(`${name(o)}: no pinned schema for ${key} (a misspelt apiVersion or kind?)`);
      continue;
    }
    const model = (await import(pathToFileURL(`${file}.js`).href))[o.kind];
    try {
      new model(o).validate();
    } catch (e) {
      problems.push(`${name(o)}: ${e.message.replaceAll("\n", "; ")}`);
    }
    types.checkUnknownFields(o, `${file}.d.ts`, `I${o.kind}`, (where, message) => problems.push(`${name(o)}: ${where}: ${message}`));
  }
}

const [command, file] = process.argv.slice(2);
if (!command || !file) {
  console.error("usage: node validate.mjs schema|restricted|json|rules FILE");
  process.exit(2);
}

const objects = load(file);
const problems = [];
switch (command) {
  case "schema":
    await checkSchema(objects, problems);
    break;
  case "restricted":
    for (const o of objects) {
      for (const p of checkRestricted(o)) problems.push(`${name(o)}: ${p}`);
    }
    break;
  case "json":
    console.log(JSON.stringify(objects, null, 2));
    break;
  case "rules": {
    const rules = objects.filter((o) => o.kind === "PrometheusRule");
    if (rules.length !== 1) problems.push(`expected one PrometheusRule, found ${rules.length}`);
    else console.log(JSON.stringify(rules[0].spec, null, 2));
    break;
  }
  default:
    console.error(`unknown command ${command}`);
    process.exit(2);
}

for (const p of problems) console.log(p);
if (command === "schema" || command === "restricted") {
  console.log(`${objects.length} objects checked, ${problems.length} problems`);
}
process.exit(problems.length === 0 ? 0 : 1);
