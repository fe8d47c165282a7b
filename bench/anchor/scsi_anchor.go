package main

// The anchor of uvm-bench hotplug (build-hcsshim-scsi-anchor.sh puts this
// file beside hcsshim's own SCSI manager): the manager driven by one
// caller adding then releasing one disk in a loop, with fake backends that
// build and JSON-encode the host and guest requests as hcsHostBackend and
// bridgeGuestBackend do, then drop them. It counts adds and releases, as
// hotplug does, and prints one JSON object.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/Microsoft/hcsshim/internal/hcs/resourcepaths"
	hcsschema "github.com/Microsoft/hcsshim/internal/hcs/schema2"
	"github.com/Microsoft/hcsshim/internal/protocol/guestrequest"
)

// The encoded bytes, counted so that the encoding cannot be optimized away.
var sink int

type fakeHost struct{}

func (fakeHost) modify(req *hcsschema.ModifySettingRequest) error {
	b, err := json.Marshal(req)
	sink += len(b)
	return err
}

func (h fakeHost) attach(ctx context.Context, controller, lun uint, config *attachConfig) error {
	return h.modify(&hcsschema.ModifySettingRequest{
		RequestType: guestrequest.RequestTypeAdd,
		Settings: hcsschema.Attachment{
			Path:                      config.path,
			Type_:                     config.typ,
			ReadOnly:                  config.readOnly,
			ExtensibleVirtualDiskType: config.evdType,
		},
		ResourcePath: fmt.Sprintf(resourcepaths.SCSIResourceFormat, guestrequest.ScsiControllerGuids[controller], lun),
	})
}

func (h fakeHost) detach(ctx context.Context, controller, lun uint) error {
	return h.modify(&hcsschema.ModifySettingRequest{
		RequestType:  guestrequest.RequestTypeRemove,
		ResourcePath: fmt.Sprintf(resourcepaths.SCSIResourceFormat, guestrequest.ScsiControllerGuids[controller], lun),
	})
}

// The bridge wraps a guest modification in a containerModifySettings
// message for the null container.
type modifySettings struct {
	ContainerID string      `json:"ContainerId"`
	ActivityID  string      `json:"ActivityId"`
	Request     interface{} `json:"Request"`
}

type fakeGuest struct{}

func (fakeGuest) send(req guestrequest.ModificationRequest) error {
	b, err := json.Marshal(&modifySettings{ContainerID: "00000000-0000-0000-0000-000000000000", Request: req})
	sink += len(b)
	return err
}

func (g fakeGuest) mount(ctx context.Context, controller, lun uint, path string, config *mountConfig) error {
	req, err := mountRequest(controller, lun, path, config, "linux")
	if err != nil {
		return err
	}
	return g.send(req)
}

func (g fakeGuest) unmount(ctx context.Context, controller, lun uint, path string, config *mountConfig) error {
	req, err := unmountRequest(controller, lun, path, config, "linux")
	if err != nil {
		return err
	}
	return g.send(req)
}

func (g fakeGuest) unplug(ctx context.Context, controller, lun uint) error {
	req, err := unplugRequest(controller, lun, "linux")
	if err != nil {
		return err
	}
	return g.send(req)
}

func main() {
	seconds := flag.Float64("seconds", 5, "how long to run")
	withMount := flag.Bool("mount", false, "mount in the guest too (uvm-bench hotplug passes no guest path: no mount)")
	flag.Parse()
	m, err := NewManager(fakeHost{}, fakeGuest{}, 4, 64, "/run/mounts/scsi/m%d", []Slot{{0, 0}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	var mc *MountConfig
	if *withMount {
		mc = &MountConfig{}
	}
	var adds, releases []time.Duration
	ops := 0
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))
	for time.Now().Before(deadline) {
		t0 := time.Now()
		mount, err := m.AddVirtualDisk(ctx, "C:\\bench\\disk-0.vhdx", false, "", mc)
		if err != nil {
			panic(err)
		}
		t1 := time.Now()
		if err := mount.Release(ctx); err != nil {
			panic(err)
		}
		t2 := time.Now()
		adds = append(adds, t1.Sub(t0))
		releases = append(releases, t2.Sub(t1))
		ops += 2
	}
	elapsed := time.Since(start).Seconds()
	p50 := func(d []time.Duration) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[len(d)/2].Nanoseconds()) / 1e3
	}
	fmt.Fprintf(os.Stdout, "{\"anchor\":\"hcsshim internal/uvm/scsi Manager\",\"ops\":%d,\"ops_per_s\":%.0f,\"add_p50_us\":%.3f,\"release_p50_us\":%.3f,\"sink\":%d}\n",
		ops, float64(ops)/elapsed, p50(adds), p50(releases), sink)
}
