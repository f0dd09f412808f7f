[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("MailCluster.Smtp.Tests")]
