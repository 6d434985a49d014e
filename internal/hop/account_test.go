package hop

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestSTSUsesNoAccountEndpoints pins why rolehop ignores
// account_id_endpoint_mode / AWS_ACCOUNT_ID_ENDPOINT_MODE for its own calls:
// STS's endpoint rules take no AccountId and the client has no account id
// endpoint mode (only services such as DynamoDB do), so rolehop passes the
// setting on to children untouched. Should a new SDK version add either,
// this fails and the question comes back.
func TestSTSUsesNoAccountEndpoints(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeOf(sts.EndpointParameters{}), reflect.TypeOf(sts.Options{})} {
		for i := 0; i < typ.NumField(); i++ {
			if name := typ.Field(i).Name; strings.Contains(name, "AccountID") || strings.Contains(name, "AccountId") {
				t.Errorf("sts.%s has %s: STS may now use account-based endpoints", typ.Name(), name)
			}
		}
	}
}
