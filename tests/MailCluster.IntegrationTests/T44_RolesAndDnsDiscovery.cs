using System.Globalization;
using System.Net.Sockets;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T44: three nodes on 127.0.0.2-4 sharing one cluster port find each other through DNS (dnsmasq serves three A
/// records for the "headless Service" name, as Kubernetes does) and form one cluster. Roles: .2 edge+delivery,
/// .3 delivery only (no SMTP listener, hosts shards), .4 edge only (SMTP through a shard-region proxy, hosts no
/// shard). Mail submitted to both edges is delivered.
/// </summary>
public class T44_RolesAndDnsDiscovery
{
    private const string Service = "nodes.mc.test";

    [Fact]
    public async Task Nodes_discovered_through_dns_form_one_cluster_with_roles()
    {
        string[] addresses = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
        await using var cluster = await ClusterHarness.StartAsync(domainCount: 6, [.. addresses.Select(a => DnsmasqServer.HostRecord(Service, a))]);
        var port = FreePort.Tcp();
        string[][] roles = [["edge", "delivery"], ["delivery"], ["edge"]];
        var nodes = cluster.AddNodes(3);
        for (var i = 0; i < 3; i++)
        {
            var env = nodes[i].Config!.Environment;
            foreach (var key in env.Keys.Where(k => k.StartsWith("MailCluster__Cluster__Seeds__", StringComparison.Ordinal)).ToList())
            {
                env.Remove(key);
            }

            env["MailCluster__Cluster__Host"] = addresses[i];
            env["MailCluster__Cluster__Port"] = port.ToString(CultureInfo.InvariantCulture);
            env["MailCluster__Cluster__DiscoveryService"] = Service;
            for (var r = 0; r < roles[i].Length; r++)
            {
                env[$"MailCluster__Cluster__Roles__{r}"] = roles[i][r];
            }
        }

        await cluster.StartAllAsync();
        var view = await ClusterHarness.WaitForClusterAsync(nodes[2], v => ClusterHarness.UpMembers(v) == 3, TimeSpan.FromSeconds(30), "3 members up");
        string Address(int i) => $"akka.tcp://mailcluster@{addresses[i]}:{port}";
        var byAddress = view.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("address").GetString()!);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(roles[i].Order(StringComparer.Ordinal), byAddress[Address(i)].GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        }

        await Assert.ThrowsAnyAsync<SocketException>(async () =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", nodes[1].Config!.MxPort);
        });

        var messages = ClusterHarness.Messages("t44", 30, cluster.Domains);
        int[] edges = [nodes[0].Config!.MxPort, nodes[2].Config!.MxPort];
        var load = await SmtpLoad.RunAsync(() => edges, messages, workers: 2, TimeSpan.FromSeconds(60));
        Assert.Equal(messages.Count, load.Accepted.Count);
        var copies = await cluster.WaitForDeliveriesAsync([.. load.Accepted.Keys], TimeSpan.FromSeconds(60));
        Assert.All(messages, m => Assert.True(copies.ContainsKey(m.MessageId), $"{m.MessageId} not delivered"));

        view = await ClusterHarness.GetClusterAsync(nodes[2]);
        Assert.DoesNotContain(Address(2), ClusterHarness.ShardsByHost(view).Keys);
        Assert.True(ClusterHarness.ShardsByHost(view).Values.Sum() > 0, view.ToString());
    }
}
