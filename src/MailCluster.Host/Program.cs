Console.WriteLine("MailCluster");
