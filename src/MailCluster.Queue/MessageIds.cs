namespace MailCluster.Queue;

/// <summary>Queue ids: time-ordered (UUIDv7), unique across nodes without coordination, 32 hex digits.</summary>
public static class MessageIds
{
    public static string New() => Guid.CreateVersion7().ToString("N").ToUpperInvariant();
}
