using System.Diagnostics;
using System.Globalization;

namespace MailCluster.Testing;

/// <summary>
/// One node's network for a partition scenario: a <see cref="NetworkNamespace"/> the test creates, joined to this host
/// by two veth pairs (iproute2 only; this kernel has no tc queueing disciplines and no netfilter tools are installed):
/// <list type="bullet">
/// <item>the cluster link, 10.211.1.2 inside ↔ <see cref="HostClusterAddress"/> 10.211.1.1 here: the other nodes
/// advertise and bind their Akka.Remote port on 10.211.1.1, the node inside on 10.211.1.2;</item>
/// <item>the service link, 10.211.2.2 inside ↔ <see cref="HostServiceAddress"/> 10.211.2.1 here: PostgreSQL also
/// listens on 10.211.2.1, and the test reaches the node's SMTP and ops ports at 10.211.2.2.</item>
/// </list>
/// <see cref="CutAsync"/> sets the inside end of the cluster link down, so the node loses the other nodes (its
/// route to 10.211.1.0/24 goes, and theirs to it) but keeps PostgreSQL: the harder partition, where the cut-off node
/// could still commit. There is no default route inside, so nothing else is reachable from it. Disposing deletes the
/// namespace, which destroys both pairs.
/// </summary>
public sealed class PartitionNetwork : IAsyncDisposable
{
    public const string HostClusterAddress = "10.211.1.1";
    public const string InsideClusterAddress = "10.211.1.2";
    public const string HostServiceAddress = "10.211.2.1";
    public const string InsideServiceAddress = "10.211.2.2";

    private readonly string _clusterInside;

    private PartitionNetwork(NetworkNamespace ns, string clusterInside)
    {
        Namespace = ns;
        _clusterInside = clusterInside;
    }

    public NetworkNamespace Namespace { get; }

    public static async Task<PartitionNetwork> CreateAsync(string prefix)
    {
        var ns = await NetworkNamespace.CreateAsync(prefix).ConfigureAwait(false);
        var tag = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId % 100_000}");
        var (clusterHere, clusterInside) = ($"mc{tag}ch", $"mc{tag}ci");
        var (serviceHere, serviceInside) = ($"mc{tag}sh", $"mc{tag}si");
        try
        {
            await LinkAsync(ns, clusterHere, clusterInside, HostClusterAddress, InsideClusterAddress).ConfigureAwait(false);
            await LinkAsync(ns, serviceHere, serviceInside, HostServiceAddress, InsideServiceAddress).ConfigureAwait(false);
            return new PartitionNetwork(ns, clusterInside);
        }
        catch
        {
            await IpAsync(["link", "delete", clusterHere], check: false).ConfigureAwait(false);
            await IpAsync(["link", "delete", serviceHere], check: false).ConfigureAwait(false);
            await ns.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Cuts the node inside off from the other nodes (its cluster link down); PostgreSQL stays reachable.</summary>
    public Task CutAsync() => IpAsync(["-n", Namespace.Name, "link", "set", _clusterInside, "down"]);

    /// <summary>Restores the cluster link.</summary>
    public Task RestoreAsync() => IpAsync(["-n", Namespace.Name, "link", "set", _clusterInside, "up"]);

    public ValueTask DisposeAsync() => Namespace.DisposeAsync();

    private static async Task LinkAsync(NetworkNamespace ns, string here, string inside, string hereAddress, string insideAddress)
    {
        // A pair left by an earlier run of this process id (its namespace was deleted, so only a stray here-end).
        await IpAsync(["link", "delete", here], check: false).ConfigureAwait(false);
        await IpAsync(["link", "add", here, "type", "veth", "peer", "name", inside]).ConfigureAwait(false);
        await IpAsync(["link", "set", inside, "netns", ns.Name]).ConfigureAwait(false);
        await IpAsync(["addr", "add", hereAddress + "/24", "dev", here]).ConfigureAwait(false);
        await IpAsync(["link", "set", here, "up"]).ConfigureAwait(false);
        await IpAsync(["-n", ns.Name, "addr", "add", insideAddress + "/24", "dev", inside]).ConfigureAwait(false);
        await IpAsync(["-n", ns.Name, "link", "set", inside, "up"]).ConfigureAwait(false);
    }

    private static async Task IpAsync(IReadOnlyList<string> arguments, bool check = true)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start ip");
        var error = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} exited with {process.ExitCode}: {error}");
        }
    }
}
