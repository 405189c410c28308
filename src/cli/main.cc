#include "cli/app.h"

int main(int argc, char** argv) { return ps::cli::Main(argc, argv); }
