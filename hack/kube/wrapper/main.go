// kube-apiserver with an optional in-process etcd, for the project's local control plane.
//
// This is upstream's cmd/kube-apiserver main plus one thing: when EMBED_ETCD_DIR is set, a
// single-member etcd (the version k8s.io/apiserver already pins) starts in this process first,
// listening on 127.0.0.1:$EMBED_ETCD_PORT (default 2379). Settings come from the environment so
// they stay out of the apiserver's own flag parsing.
package main

import (
	"fmt"
	"net/url"
	"os"
	"time"
	_ "time/tzdata"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func startEtcd(dir string) error {
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.UnsafeNoFsync = true // test-only single member: durability across power loss is not needed
	client, err := url.Parse("http://127.0.0.1:" + envOr("EMBED_ETCD_PORT", "2379"))
	if err != nil {
		return err
	}
	peer, err := url.Parse("http://127.0.0.1:" + envOr("EMBED_ETCD_PEER_PORT", "2380"))
	if err != nil {
		return err
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case <-time.After(60 * time.Second):
		return fmt.Errorf("embedded etcd not ready after 60s")
	}
}

func main() {
	if dir := os.Getenv("EMBED_ETCD_DIR"); dir != "" {
		if err := startEtcd(dir); err != nil {
			fmt.Fprintln(os.Stderr, "embedded etcd:", err)
			os.Exit(1)
		}
	}
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
