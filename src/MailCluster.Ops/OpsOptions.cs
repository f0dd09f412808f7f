namespace MailCluster.Ops;

/// <summary>Configuration section <c>MailCluster:Ops</c>.</summary>
public sealed class OpsOptions
{
    public const string Section = "MailCluster:Ops";

    /// <summary>Port of the ops HTTP API (health, metrics, admin).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Address the ops listener binds to.</summary>
    public string BindAddress { get; set; } = "*";

    /// <summary>
    /// File holding the first admin token (a mounted Secret in Kubernetes), re-read every 2 s. When unset, a node on
    /// the embedded SQLite default generates <c>{DataDir}/admin.token</c> (mode 0600) at its first start.
    /// </summary>
    public string? AdminTokenFile { get; set; }
}
