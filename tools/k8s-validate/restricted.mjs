// Pod Security Standards, profile "restricted" (https://kubernetes.io/docs/concepts/security/pod-security-standards/,
// policy version "latest" as of Kubernetes 1.34), applied to every pod template the way the PodSecurity admission
// controller does, plus MailCluster's own hardening (the contract: read-only root filesystem, requests and
// limits). Returns one message per violation.

/** The pod spec of a workload, with its path; null for objects that carry none. */
function podSpecOf(o) {
  switch (o?.kind) {
    case "Pod":
      return [o.spec, "spec"];
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "ReplicationController":
    case "Job":
      return [o.spec?.template?.spec, "spec.template.spec"];
    case "CronJob":
      return [o.spec?.jobTemplate?.spec?.template?.spec, "spec.jobTemplate.spec.template.spec"];
    default:
      return null;
  }
}

const allowedVolumeTypes = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);
const safeSysctls = new Set([
  "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
]);
const allowedSeLinuxTypes = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);

export function checkRestricted(o) {
  const found = podSpecOf(o);
  if (!found) return [];
  const [spec, at] = found;
  if (!spec) return [`${at}: missing`];
  const problems = [];
  const bad = (where, message) => problems.push(`${at}${where}: ${message}`);
  const pod = spec.securityContext ?? {};
  const containers = [
    ...(spec.containers ?? []).map((c, i) => [c, `.containers[${i}]`]),
    ...(spec.initContainers ?? []).map((c, i) => [c, `.initContainers[${i}]`]),
    ...(spec.ephemeralContainers ?? []).map((c, i) => [c, `.ephemeralContainers[${i}]`]),
  ];

  // Baseline.
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[field] === true) bad(`.${field}`, "must not be true (host namespaces)");
  if (pod.windowsOptions?.hostProcess === true) bad(".securityContext.windowsOptions.hostProcess", "must not be true");
  for (const s of pod.sysctls ?? []) if (!safeSysctls.has(s.name)) bad(".securityContext.sysctls", `${s.name} is not a safe sysctl`);
  checkSeLinux(pod.seLinuxOptions, ".securityContext.seLinuxOptions", bad);
  checkAppArmor(pod.appArmorProfile, ".securityContext.appArmorProfile", bad);
  for (const [key, value] of Object.entries(o.spec?.template?.metadata?.annotations ?? {})) {
    if (key.startsWith("container.apparmor.security.beta.kubernetes.io/") && value !== "runtime/default" && !value.startsWith("localhost/")) {
      bad(".metadata.annotations", `${key}=${value} is not allowed (AppArmor)`);
    }
  }

  // Restricted: volume types.
  for (const [i, volume] of (spec.volumes ?? []).entries()) {
    const types = Object.keys(volume).filter((k) => k !== "name");
    for (const type of types) if (!allowedVolumeTypes.has(type)) bad(`.volumes[${i}]`, `volume type ${type} is not allowed`);
  }

  // Pod-level settings a container may inherit.
  const podRunAsNonRoot = pod.runAsNonRoot === true;
  const podSeccomp = pod.seccompProfile?.type;
  if (pod.runAsUser === 0) bad(".securityContext.runAsUser", "must not be 0");
  if (podSeccomp !== undefined && podSeccomp !== "RuntimeDefault" && podSeccomp !== "Localhost") {
    bad(".securityContext.seccompProfile.type", `must be RuntimeDefault or Localhost, got ${podSeccomp}`);
  }

  for (const [c, where] of containers) {
    const sc = c.securityContext ?? {};
    const w = `${where}.securityContext`;
    if (sc.privileged === true) bad(`${w}.privileged`, "must not be true");
    if (sc.procMount !== undefined && sc.procMount !== "Default") bad(`${w}.procMount`, "must be Default");
    if (sc.windowsOptions?.hostProcess === true) bad(`${w}.windowsOptions.hostProcess`, "must not be true");
    checkSeLinux(sc.seLinuxOptions, `${w}.seLinuxOptions`, bad);
    checkAppArmor(sc.appArmorProfile, `${w}.appArmorProfile`, bad);
    for (const [p, port] of (c.ports ?? []).entries()) if (port.hostPort) bad(`${where}.ports[${p}].hostPort`, "host ports are not allowed");
    if (sc.allowPrivilegeEscalation !== false) bad(`${w}.allowPrivilegeEscalation`, "must be false");
    if (sc.runAsNonRoot === false || (!podRunAsNonRoot && sc.runAsNonRoot !== true)) bad(`${w}.runAsNonRoot`, "must be true (here or in the pod's securityContext)");
    if (sc.runAsUser === 0) bad(`${w}.runAsUser`, "must not be 0");
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") bad(`${w}.seccompProfile.type`, "must be RuntimeDefault or Localhost (here or in the pod's securityContext)");
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) bad(`${w}.capabilities.drop`, "must include ALL");
    for (const cap of sc.capabilities?.add ?? []) if (cap !== "NET_BIND_SERVICE") bad(`${w}.capabilities.add`, `${cap} is not allowed (only NET_BIND_SERVICE)`);

    // MailCluster hardening, beyond the profile (regular containers only).
    if (where.startsWith(".containers")) {
      if (sc.readOnlyRootFilesystem !== true) bad(`${w}.readOnlyRootFilesystem`, "must be true (MailCluster hardening; /tmp is an emptyDir)");
      for (const kind of ["requests", "limits"]) {
        for (const resource of ["cpu", "memory"]) if (c.resources?.[kind]?.[resource] === undefined) bad(`${where}.resources.${kind}.${resource}`, "must be set (MailCluster hardening)");
      }
      if (!(c.volumeMounts ?? []).some((m) => m.mountPath === "/tmp")) bad(`${where}.volumeMounts`, "needs a writable /tmp (MailCluster hardening: the root filesystem is read-only)");
    }
  }
  return problems;
}

function checkSeLinux(options, where, bad) {
  if (!options) return;
  if (!allowedSeLinuxTypes.has(options.type ?? "")) bad(`${where}.type`, `${options.type} is not allowed`);
  if (options.user) bad(`${where}.user`, "must not be set");
  if (options.role) bad(`${where}.role`, "must not be set");
}

function checkAppArmor(profile, where, bad) {
  if (profile && profile.type !== "RuntimeDefault" && profile.type !== "Localhost") bad(`${where}.type`, `${profile.type} is not allowed`);
}
