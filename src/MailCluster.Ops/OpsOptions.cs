namespace MailCluster.Ops;

/// <summary>Configuration section <c>MailCluster:Ops</c>.</summary>
public sealed class OpsOptions
{
    public const string Section = "MailCluster:Ops";

    /// <summary>Port of the ops HTTP API (health, metrics, admin).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Address the ops listener binds to.</summary>
    public string BindAddress { get; set; } = "*";
}
