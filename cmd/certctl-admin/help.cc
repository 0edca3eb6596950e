// certctl-admin help [COMMAND [SUBCOMMAND]]: the same text as
// `COMMAND SUBCOMMAND --help`, found in the same tree.
#include <iostream>

#include "command_line.h"
#include "commands.h"

namespace certctl::admin {

void RegisterHelpCommand(AdminApp& app) {
  auto& words = app.Make<std::vector<std::string>>();
  auto* cmd = app.root().add_subcommand(
      "help", "Show the help of a command (the same as COMMAND --help)");
  cmd->add_option("COMMAND", words, "The command, e.g. `crl` or `crl status`")
      ->type_name("");
  app.Document(
      cmd, {.description =
                "Prints the help of a command, exactly as `COMMAND --help` does: "
                "`certctl-admin help crl status` is `certctl-admin crl status --help`. "
                "Without a command it prints the overview of certctl-admin. An unknown "
                "command is named with the nearest existing one, exit status 2.",
            .examples = {{"certctl-admin help ocsp reset-responder",
                          "the options of ocsp reset-responder"}},
            .findings = "never",
            .exit_status = {{0, "the help was printed"},
                            {2, "there is no such command (the nearest one is named)"},
                            {69, ""},
                            {70, ""},
                            {78, ""}}});
  cmd->callback([&app, &words] {
    app.SetAction("help", [&app, &words] {
      auto path = FindCommand(app.root(), words);
      if (!path.ok()) return app.Fail(path.status());
      // Not App::help(): on the root it would show the parsed `help`.
      const CLI::App* command = path->chain.back();
      std::cout << command->get_formatter()->make_help(command, path->Spaced(),
                                                       CLI::AppFormatMode::Normal);
    });
  });
}

}  // namespace certctl::admin
