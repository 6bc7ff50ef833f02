// SPDX-License-Identifier: Apache-2.0
//
// Embeds a sihlicon hub: opens (or creates) it in the folder given on the command line and
// shows what it holds.
//
//   quickstart ./demo-hub
#include <sihlicon/error.hpp>
#include <sihlicon/hub.hpp>
#include <sihlicon/version.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: quickstart HUB_DIRECTORY\n";
        return 2;
    }
    try {
        const sihlicon::Hub hub = sihlicon::Hub::open(argv[1]);
        const sihlicon::HubInfo info = hub.info();
        std::cout << "sihlicon " << sihlicon::library_version() << ": hub " << info.instance_id
                  << " at " << info.directory << "\n"
                  << "  database " << info.database_path << ", schema version "
                  << info.schema_version << "\n"
                  << "  blobs    " << info.blob_directory << "\n"
                  << "  created  " << sihlicon::to_iso8601(info.created_at) << "\n";
        return 0;
    } catch (const sihlicon::Error& error) {
        std::cerr << "quickstart: " << sihlicon::to_string(error.code()) << ": " << error.what()
                  << "\n";
        return 1;
    }
}
