using Strata.Cli;

return StrataApp.Run(args, Console.Out, Console.Error);
