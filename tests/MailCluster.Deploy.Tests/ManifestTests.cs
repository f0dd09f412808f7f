using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace MailCluster.Deploy.Tests;

/// <summary>
/// k8s/ as shipped, offline: each overlay renders with <c>kubectl kustomize</c>; every rendered object matches the
/// pinned schemas (kubernetes-models, prometheus-operator, a CloudNativePG subset) with no unknown field; every pod
/// template satisfies Pod Security "restricted"; the overlays have the shape the README promises. Two tests plant a
/// mistake in a copy of k8s/ and show that the checks catch it.
/// </summary>
public sealed partial class ManifestTests
{
    public static TheoryData<string> Overlays => ["dev", "production"];

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_rendered_object_matches_the_pinned_schemas_without_unknown_fields(string overlay)
    {
        using var temp = new TempDirectory();
        var rendered = await Repository.RenderAsync(Repository.PathOf("k8s", "overlays", overlay), temp.Path);

        var (exit, output, error) = await Repository.ValidateAsync("schema", rendered);

        Assert.True(exit == 0, output + error);
        Assert.Matches(@"\d+ objects checked, 0 problems", output);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_pod_template_satisfies_pod_security_restricted(string overlay)
    {
        using var temp = new TempDirectory();
        var rendered = await Repository.RenderAsync(Repository.PathOf("k8s", "overlays", overlay), temp.Path);

        var (exit, output, error) = await Repository.ValidateAsync("restricted", rendered);

        Assert.True(exit == 0, output + error);
    }

    [Fact]
    public async Task A_misspelt_field_fails_the_schema_check()
    {
        using var temp = new TempDirectory();
        var k8s = CopyK8s(temp.Path);
        Replace(Path.Combine(k8s, "base", "statefulset.yaml"), "imagePullPolicy: IfNotPresent", "imagePullPolisy: IfNotPresent");
        var rendered = await Repository.RenderAsync(Path.Combine(k8s, "overlays", "production"), temp.Path);

        var (exit, output, _) = await Repository.ValidateAsync("schema", rendered);

        Assert.Equal(1, exit);
        Assert.Contains("StatefulSet/mailcluster: $.spec.template.spec.containers[0].imagePullPolisy: unknown field", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_container_securityContext_fails_the_restricted_check()
    {
        using var temp = new TempDirectory();
        var k8s = CopyK8s(temp.Path);
        var statefulSet = Path.Combine(k8s, "base", "statefulset.yaml");
        var text = await File.ReadAllTextAsync(statefulSet, TestContext.Current.CancellationToken);
        var withoutContainerContext = ContainerSecurityContext().Replace(text, "\n", 1);
        Assert.NotEqual(text, withoutContainerContext);
        await File.WriteAllTextAsync(statefulSet, withoutContainerContext, TestContext.Current.CancellationToken);
        var rendered = await Repository.RenderAsync(Path.Combine(k8s, "overlays", "dev"), temp.Path);

        var (exit, output, _) = await Repository.ValidateAsync("restricted", rendered);

        Assert.Equal(1, exit);
        Assert.Contains("containers[0].securityContext.allowPrivilegeEscalation: must be false", output, StringComparison.Ordinal);
        Assert.Contains("containers[0].securityContext.capabilities.drop: must include ALL", output, StringComparison.Ordinal);
        Assert.Contains("containers[0].securityContext.readOnlyRootFilesystem: must be true", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_image_is_pinned_to_the_project_version()
    {
        var props = await File.ReadAllTextAsync(Repository.PathOf("Directory.Build.props"), TestContext.Current.CancellationToken);
        var version = VersionElement().Match(props).Groups[1].Value;
        Assert.Matches(@"^\d+\.\d+\.\d+", version);

        foreach (var overlay in Overlays)
        {
            var objects = await ObjectsAsync(overlay);
            var image = PodSpec(objects).GetProperty("containers")[0].GetProperty("image").GetString();
            Assert.EndsWith(":" + version, image, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Production_runs_three_nodes_on_the_CloudNativePG_database_with_tls_from_secrets()
    {
        var objects = await ObjectsAsync("production");
        var statefulSet = Single(objects, "StatefulSet", "mailcluster");
        Assert.True(statefulSet.GetProperty("spec").GetProperty("replicas").GetInt32() >= 3);

        var config = Config(objects);
        Assert.Equal("PostgreSql", config["MailCluster__Storage__Provider"]);

        // The connection string file is the "uri" key of the Secret CloudNativePG generates for the Cluster.
        var database = Single(objects, "Cluster", null);
        var secret = database.GetProperty("metadata").GetProperty("name").GetString() + "-app";
        var (mountPath, key) = SecretFile(PodSpec(objects), secret);
        Assert.Equal($"{mountPath}/{key}", config["MailCluster__Storage__ConnectionStringFile"]);
        Assert.Equal("uri", key);

        // TLS certificate and key from one Secret, mounted as a directory (a subPath mount would never see a renewal).
        var tlsDirectory = Path.GetDirectoryName(config["MailCluster__Smtp__TlsCertificatePath"])!;
        Assert.Equal(tlsDirectory, Path.GetDirectoryName(config["MailCluster__Smtp__TlsKeyPath"]));
        var mounts = PodSpec(objects).GetProperty("containers")[0].GetProperty("volumeMounts").EnumerateArray();
        Assert.Contains(mounts, m => m.GetProperty("mountPath").GetString() == tlsDirectory && !m.TryGetProperty("subPath", out _));

        Assert.Single(objects, o => Kind(o) == "ServiceMonitor");
        Assert.Single(objects, o => Kind(o) == "PrometheusRule");
    }

    [Fact]
    public async Task Dev_runs_one_node_on_sqlite_with_its_data_on_a_volume_claim()
    {
        var objects = await ObjectsAsync("dev");
        var spec = Single(objects, "StatefulSet", "mailcluster").GetProperty("spec");
        Assert.Equal(1, spec.GetProperty("replicas").GetInt32());
        Assert.Equal("Sqlite", Config(objects)["MailCluster__Storage__Provider"]);
        Assert.Equal("data", spec.GetProperty("volumeClaimTemplates")[0].GetProperty("metadata").GetProperty("name").GetString());
        Assert.DoesNotContain(PodSpec(objects).GetProperty("volumes").EnumerateArray(), v => v.GetProperty("name").GetString() == "data");
        var dataDir = Config(objects)["MailCluster__DataDir"];
        Assert.Contains(PodSpec(objects).GetProperty("containers")[0].GetProperty("volumeMounts").EnumerateArray(), m => m.GetProperty("mountPath").GetString() == dataDir);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Services_probes_disruption_budget_and_discovery_are_as_documented(string overlay)
    {
        var objects = await ObjectsAsync(overlay);

        var smtp = Single(objects, "Service", "mailcluster-smtp").GetProperty("spec");
        Assert.Equal("LoadBalancer", smtp.GetProperty("type").GetString());
        Assert.Equal("Local", smtp.GetProperty("externalTrafficPolicy").GetString());
        var ports = smtp.GetProperty("ports").EnumerateArray().ToDictionary(p => p.GetProperty("port").GetInt32(), p => p.GetProperty("targetPort").GetString());
        Assert.Equal(new Dictionary<int, string?> { [25] = "smtp", [587] = "submission", [465] = "submissions" }, ports);
        var containerPorts = PodSpec(objects).GetProperty("containers")[0].GetProperty("ports").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("containerPort").GetInt32());
        var config = Config(objects);
        Assert.Equal(config["MailCluster__Smtp__MxPort"], containerPorts["smtp"].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(config["MailCluster__Smtp__SubmissionPort"], containerPorts["submission"].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(config["MailCluster__Smtp__SubmissionsPort"], containerPorts["submissions"].ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal("ClusterIP", Single(objects, "Service", "mailcluster-ops").GetProperty("spec").GetProperty("type").GetString());
        Assert.Equal(1, Single(objects, "PodDisruptionBudget", "mailcluster").GetProperty("spec").GetProperty("maxUnavailable").GetInt32());

        // Readiness evaluates its checks concurrently, each cut off after 5 s (OpsEndpoints.ProbeTimeout): the probe
        // must wait longer than that, or a slow check shows up as a probe timeout instead of a 503 with its reason.
        var container = PodSpec(objects).GetProperty("containers")[0];
        Assert.True(container.GetProperty("readinessProbe").GetProperty("timeoutSeconds").GetInt32() > 5);

        // Discovery: the fully qualified name of the headless Service, built from the downward-API namespace.
        var env = container.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal("mailcluster-nodes.$(POD_NAMESPACE).svc.cluster.local", env["MailCluster__Cluster__DiscoveryService"].GetProperty("value").GetString());
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].GetProperty("valueFrom").GetProperty("fieldRef").GetProperty("fieldPath").GetString());
        Assert.True(Single(objects, "Service", "mailcluster-nodes").GetProperty("spec").GetProperty("publishNotReadyAddresses").GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(config["MailCluster__Hostname"]));
        Assert.Equal("/etc/mailcluster/admin/token", config["MailCluster__Ops__AdminTokenFile"]);
        Assert.Equal("/etc/mailcluster/admin", SecretFile(PodSpec(objects), "mailcluster-admin-token").MountPath);
    }

    [Fact]
    public async Task Yamllint_accepts_k8s_and_ops()
    {
        var (exit, output, error) = await Repository.RunAsync(Repository.Tool("yamllint"), ["-c", ".yamllint.yaml", "-f", "parsable", "k8s", "ops", ".yamllint.yaml"]);
        Assert.True(exit == 0, output + error);
    }

    /// <summary>The rendered objects of an overlay.</summary>
    internal static async Task<List<JsonElement>> ObjectsAsync(string overlay)
    {
        using var temp = new TempDirectory();
        var rendered = await Repository.RenderAsync(Repository.PathOf("k8s", "overlays", overlay), temp.Path);
        var (exit, output, error) = await Repository.ValidateAsync("json", rendered);
        Assert.True(exit == 0, error);
        return [.. JsonDocument.Parse(output).RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static string Kind(JsonElement o) => o.GetProperty("kind").GetString()!;

    private static JsonElement Single(List<JsonElement> objects, string kind, string? name) =>
        Assert.Single(objects, o => Kind(o) == kind && (name is null || o.GetProperty("metadata").GetProperty("name").GetString() == name));

    private static JsonElement PodSpec(List<JsonElement> objects) =>
        Single(objects, "StatefulSet", "mailcluster").GetProperty("spec").GetProperty("template").GetProperty("spec");

    /// <summary>The data of the ConfigMap the StatefulSet's envFrom names (kustomize appends a hash to it).</summary>
    private static Dictionary<string, string> Config(List<JsonElement> objects)
    {
        var name = PodSpec(objects).GetProperty("containers")[0].GetProperty("envFrom")[0].GetProperty("configMapRef").GetProperty("name").GetString();
        return Single(objects, "ConfigMap", name).GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    /// <summary>Where the Secret <paramref name="secret"/> is mounted, and the single key it projects (or "").</summary>
    private static (string MountPath, string Key) SecretFile(JsonElement podSpec, string secret)
    {
        var volume = Assert.Single(podSpec.GetProperty("volumes").EnumerateArray(), v => v.TryGetProperty("secret", out var s) && s.GetProperty("secretName").GetString() == secret);
        var name = volume.GetProperty("name").GetString();
        var mount = Assert.Single(podSpec.GetProperty("containers")[0].GetProperty("volumeMounts").EnumerateArray(), m => m.GetProperty("name").GetString() == name);
        var key = volume.GetProperty("secret").TryGetProperty("items", out var items) ? items[0].GetProperty("path").GetString()! : "";
        return (mount.GetProperty("mountPath").GetString()!, key);
    }

    private static string CopyK8s(string into)
    {
        var target = Path.Combine(into, "k8s");
        foreach (var file in Directory.EnumerateFiles(Repository.PathOf("k8s"), "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(Repository.PathOf("k8s"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }

        return target;
    }

    private static void Replace(string file, string from, string to)
    {
        var text = File.ReadAllText(file);
        Assert.Contains(from, text, StringComparison.Ordinal);
        File.WriteAllText(file, text.Replace(from, to, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();

    /// <summary>The container's securityContext block in base/statefulset.yaml (10-space indentation, up to the next key).</summary>
    [GeneratedRegex(@"\n          securityContext:\n(?:            .*\n)+")]
    private static partial Regex ContainerSecurityContext();
}
