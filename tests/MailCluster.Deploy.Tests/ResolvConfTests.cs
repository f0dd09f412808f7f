using System.Net;
using MailCluster.Host.Composition;
using Xunit;

namespace MailCluster.Deploy.Tests;

/// <summary>The resolv.conf rules seed discovery applies without configured DNS servers (glibc's res_search order),
/// on a pod's resolv.conf as Kubernetes writes it.</summary>
public sealed class ResolvConfTests
{
    private const string Pod = """
        # written by the kubelet
        search mail.svc.cluster.local svc.cluster.local cluster.local
        nameserver 10.96.0.10
        options ndots:5
        """;

    [Fact]
    public void A_pods_resolv_conf_gives_its_server_search_list_and_ndots()
    {
        var conf = ResolvConf.Parse(Pod);

        Assert.Equal([IPAddress.Parse("10.96.0.10")], conf.Nameservers);
        Assert.Equal(["mail.svc.cluster.local", "svc.cluster.local", "cluster.local"], conf.Search);
        Assert.Equal(5, conf.Ndots);
    }

    [Fact]
    public void A_short_name_tries_the_search_list_first_and_itself_last()
    {
        Assert.Equal(
            ["mailcluster-nodes.mail.svc.cluster.local", "mailcluster-nodes.svc.cluster.local", "mailcluster-nodes.cluster.local", "mailcluster-nodes"],
            ResolvConf.Parse(Pod).Candidates("mailcluster-nodes"));
    }

    [Fact]
    public void A_name_with_at_least_ndots_dots_is_asked_as_is_first()
    {
        var conf = ResolvConf.Parse("search a.example\noptions ndots:2");

        Assert.Equal(["x.y.z", "x.y.z.a.example"], conf.Candidates("x.y.z"));
        Assert.Equal(["x.y.a.example", "x.y"], conf.Candidates("x.y"));
    }

    [Fact]
    public void A_trailing_dot_makes_a_name_absolute()
    {
        Assert.Equal(["mailcluster-nodes.mail.svc.cluster.local"], ResolvConf.Parse(Pod).Candidates("mailcluster-nodes.mail.svc.cluster.local."));
    }

    [Fact]
    public void Defaults_domain_comments_and_bad_lines_follow_glibc()
    {
        var conf = ResolvConf.Parse("; comment\ndomain corp.example\nnameserver not-an-address\noptions ndots:99 rotate\nbogus line\n");

        Assert.Equal([IPAddress.Loopback], conf.Nameservers); // no usable nameserver: the local host
        Assert.Equal(["corp.example"], conf.Search);
        Assert.Equal(15, conf.Ndots); // capped
        Assert.Equal(1, ResolvConf.Parse("").Ndots);
        Assert.Equal(["a.example"], ResolvConf.Parse("domain corp.example\nsearch a.example").Search); // the last one wins
    }
}
