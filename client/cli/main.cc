// htsr: how well is a neural network trained, from its weights alone.
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"

int main(int argc, char** argv) {
  return htsr::cli::RunCommandLine(std::vector<std::string>(argv + 1, argv + argc), std::cout,
                                   std::cerr);
}
