using System.Reflection;

namespace MailCluster.Ops;

/// <summary>
/// The version this node was built as: <c>&lt;Version&gt;</c> in Directory.Build.props, stamped into every assembly
/// (the informational version carries the git commit after a '+' when the SDK knows it). Shown by
/// <c>GET /api/v1/cluster</c> and <c>mailcluster_build_info</c>; the image tag in k8s/ is the same version.
/// </summary>
public static class BuildInfo
{
    private static readonly string Informational =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The release version, e.g. <c>0.2.0</c>.</summary>
    public static string Version { get; } = Informational.Split('+')[0];

    /// <summary>The git commit the build came from, or <c>unknown</c>.</summary>
    public static string Revision { get; } = Informational.Split('+') is [_, var sha, ..] && sha.Length > 0 ? sha : "unknown";
}
