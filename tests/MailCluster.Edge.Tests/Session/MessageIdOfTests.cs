using System.Text;
using MailCluster.Edge.Session;
using Xunit;

namespace MailCluster.Edge.Tests.Session;

/// <summary>The Message-ID the acceptance record of the mail log names: from the header section only, unfolded.</summary>
public class MessageIdOfTests
{
    [Theory]
    [InlineData("Subject: x\r\nMessage-ID: <a@b>\r\n\r\nbody", "<a@b>")]
    [InlineData("message-id:<a@b>\r\n\r\n", "<a@b>")]
    [InlineData("Message-ID:\r\n <folded@b>\r\nSubject: x\r\n\r\n", "<folded@b>")]
    [InlineData("Subject: x\r\n\r\nMessage-ID: <in-body@b>\r\n", null)]
    [InlineData("Message-IDs: <a@b>\r\n\r\n", null)]
    public void Finds_the_header_field(string text, string? expected) =>
        Assert.Equal(expected, HeaderScan.MessageId(Encoding.ASCII.GetBytes(text)));
}
