// Unknown-field detection. The models' validators (compiled JSON schemas) check types, enums and required fields but
// accept any extra property, so a misspelt field (`imagePullPolisy`, `runAsNonRot`) would pass. The models' TypeScript
// declarations (*.d.ts) list every field of every type: this reads them into an index and walks an object against
// it, as the API server's strict field validation does.
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** Removes comments (they may contain braces and quotes). */
const stripComments = (text) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");

/** Splits at `separator` where no bracket is open. */
function splitTop(text, separator) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ("{<([".includes(c)) depth++;
    else if ("}>)]".includes(c)) depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** The text between the brace at `open` and its partner. */
function braceBody(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error("unbalanced braces");
}

/** `"name"?: Type` declarations of an interface or object-literal body: name → type text. */
function parseProps(body) {
  const props = new Map();
  for (const decl of splitTop(body, ";")) {
    const m = /^"([^"]+)"\??\s*:\s*([\s\S]+)$/.exec(decl) ?? /^([A-Za-z_$][\w$]*)\??\s*:\s*([\s\S]+)$/.exec(decl);
    if (m) props.set(m[1], m[2].trim());
  }
  return props;
}

export class TypeIndex {
  constructor(modules, schemaDir) {
    this.interfaces = new Map(); // long or file-qualified name → { props, bases }
    this.aliases = new Map(); // type alias name → type text
    this.schemaDir = schemaDir;
    for (const root of ["kubernetes-models", "@kubernetes-models/apimachinery", "@kubernetes-models/prometheus-operator"]) {
      this.#scan(path.join(modules, root));
    }
  }

  #scan(dir) {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) this.#scan(full);
      else if (entry.endsWith(".d.ts")) this.#read(full);
    }
  }

  #read(file) {
    const text = stripComments(readFileSync(file, "utf8"));
    const local = new Map();
    for (const m of text.matchAll(/export interface (\w+)(?:<[^>]*>)?(?: extends ([^{]+))?\s*\{/g)) {
      const body = braceBody(text, m.index + m[0].length - 1);
      local.set(m[1], { props: parseProps(body), bases: (m[2] ?? "").split(",").map((b) => b.trim()).filter(Boolean) });
    }
    for (const m of text.matchAll(/export type (\w+)\s*=\s*([^;]+);/g)) this.aliases.set(m[1], m[2].trim());
    for (const [localName, info] of local) this.interfaces.set(`${file}#${localName}`, info);
    // `export type { IContainer as IIoK8sApiCoreV1Container, ... }`: the long names other files import.
    for (const m of text.matchAll(/export type \{([^}]*)\}/g)) {
      for (const pair of m[1].split(",")) {
        const [from, to] = pair.split(" as ").map((s) => s.trim());
        if (to && local.has(from)) this.interfaces.set(to, local.get(from));
      }
    }
  }

  /** All fields of an interface, its bases' included; null when the type is unknown (then nothing is checked). */
  #fields(key) {
    const info = this.interfaces.get(key);
    if (!info) return null;
    const fields = new Map(info.props);
    for (const base of info.bases) {
      if (base === "TypeMeta") {
        fields.set("apiVersion", "string");
        fields.set("kind", "string");
      }
      for (const [k, v] of this.#fields(base) ?? []) fields.set(k, v);
    }
    return fields;
  }

  /** Walks `value` against the type text `type`; reports unknown fields. */
  #walk(value, type, where, report, depth = 0) {
    if (value === null || value === undefined || depth > 64) return;
    type = type.replace(/\s*\|\s*(null|undefined)\b/g, "").trim();
    let m;
    if ((m = /^Array<([\s\S]+)>$/.exec(type)) || (m = /^([\w$]+)\[\]$/.exec(type))) {
      if (Array.isArray(value)) value.forEach((v, i) => this.#walk(v, m[1], `${where}[${i}]`, report, depth + 1));
      return;
    }
    if ((m = /^\{\s*\[\w+: string\]:\s*([\s\S]+?);?\s*\}$/.exec(type))) {
      if (typeof value === "object") for (const [k, v] of Object.entries(value)) this.#walk(v, m[1], `${where}.${k}`, report, depth + 1);
      return;
    }
    if (type.startsWith("{")) {
      this.#walkFields(value, parseProps(braceBody(type, 0)), where, report, depth);
      return;
    }
    if (this.aliases.has(type) && !this.interfaces.has(type)) {
      this.#walk(value, this.aliases.get(type), where, report, depth + 1);
      return;
    }
    const fields = this.#fields(type);
    if (fields) this.#walkFields(value, fields, where, report, depth);
    // Anything else (primitives, unions, string enums) is left to the models' validators.
  }

  #walkFields(value, fields, where, report, depth) {
    if (typeof value !== "object" || Array.isArray(value)) return;
    for (const [k, v] of Object.entries(value)) {
      if (!fields.has(k)) report(`${where}.${k}`, "unknown field");
      else this.#walk(v, fields.get(k), `${where}.${k}`, report, depth + 1);
    }
  }

  /** Reports every field of `object` that its kind's declaration (interface `name` in `dtsFile`) does not have. */
  checkUnknownFields(object, dtsFile, name, report) {
    const key = `${dtsFile}#${name}`;
    if (!this.interfaces.has(key)) {
      report("$", `no type declaration ${name} in ${path.basename(dtsFile)}`);
      return;
    }
    this.#walk(object, key, "$", report);
  }

  /**
   * A custom resource without an npm model, against schemas/FILE: a JSON tree whose leaves are "string", "integer",
   * "boolean", an array of allowed strings, or the name of a Kubernetes type from the index (e.g. "IIoK8sApiCoreV1
   * ResourceRequirements"); {"*": X} is a map of X; "!required" lists required fields. Any field not in the tree is
   * unknown: the file is the subset of the CRD this repository uses, so extend it when you use more fields.
   */
  checkLocal(object, file, report) {
    const schema = JSON.parse(readFileSync(path.join(this.schemaDir, file), "utf8"));
    const walk = (value, node, where) => {
      if (typeof node === "string") {
        if (node === "string" || node === "integer" || node === "boolean") {
          const ok = node === "integer" ? Number.isInteger(value) : typeof value === node;
          if (!ok) report(where, `must be ${node}`);
        } else {
          this.#walk(value, node, where, report);
        }
        return;
      }
      if (Array.isArray(node)) {
        if (!node.includes(value)) report(where, `must be one of ${node.join(", ")}`);
        return;
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        report(where, "must be an object");
        return;
      }
      for (const required of node["!required"] ?? []) if (!(required in value)) report(where, `${required} is required`);
      for (const [k, v] of Object.entries(value)) {
        if ("*" in node) walk(v, node["*"], `${where}.${k}`);
        else if (!(k in node)) report(`${where}.${k}`, "unknown field");
        else walk(v, node[k], `${where}.${k}`);
      }
    };
    walk(object, schema, "$");
  }
}
