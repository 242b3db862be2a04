// Command pubsub-emulator serves Google's in-memory Pub/Sub fake (pstest) on a TCP address, for
// machines where the Google Cloud CLI's emulator is not installed. It speaks the same gRPC API,
// so @google-cloud/pubsub talks to it through PUBSUB_EMULATOR_HOST like to the real emulator.
package main

import (
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8085, "port to listen on")
	flag.Parse()

	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	srv := pstest.NewServerWithAddress(addr)
	log.Printf("pstest pubsub emulator listening on %s", srv.Addr)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	if err := srv.Close(); err != nil {
		log.Printf("close: %v", err)
		os.Exit(1)
	}
}
